import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyClusterCommand,
  type ClusterCommand,
  type ClusterState,
  decodeClusterState,
  encodeClusterState,
  initialClusterState,
} from '../../src/membership/cluster-state.js';

const founders = [
  { id: 'b~1', name: 'b', address: 'b:4000' },
  { id: 'a~1', name: 'a', address: 'a:4000' },
  { id: 'c~1', name: 'c', address: 'c:4000' },
];

function run(state: ClusterState, ...commands: ClusterCommand[]) {
  const results = [];
  for (const c of commands) {
    const r = applyClusterCommand(state, c);
    state = r.state;
    results.push(r.result);
  }
  return { state, results };
}

describe('cluster state – the meta group’s members', () => {
  it('every founder builds the identical initial snapshot, whatever order it lists the founders in', () => {
    const one = encodeClusterState(initialClusterState('cl-1', founders));
    const two = encodeClusterState(initialClusterState('cl-1', [...founders].reverse()));
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    const back = decodeClusterState(one);
    expect(back.cluster_id).toBe('cl-1');
    expect([...back.members.keys()].sort()).toEqual(['a~1', 'b~1', 'c~1']);
  });

  it('a node that comes back under its name with a new id replaces its old record', () => {
    const { state } = run(initialClusterState('cl', founders), {
      type: 'join',
      id: 'c~2',
      name: 'c',
      address: 'c:4000',
    });
    expect(state.members.get('c~1')?.state).toBe('replaced');
    expect(state.members.get('c~2')?.state).toBe('active');
    const forgotten = run(state, { type: 'forget', id: 'c~1' }, { type: 'forget', id: 'a~1' });
    expect(forgotten.state.members.has('c~1')).toBe(false);
    expect(forgotten.results[1]).toEqual({ ok: false, error: 'node a~1 was not replaced' });
  });

  it('a drained node is removed for good: it cannot rejoin under the same id', () => {
    const { state, results } = run(
      initialClusterState('cl', founders),
      { type: 'join', id: 'd~1', name: 'd', address: 'd:4000' },
      { type: 'drain', id: 'b~1' },
      { type: 'removed', id: 'b~1' },
      { type: 'join', id: 'b~1', name: 'b', address: 'b:4000' },
      { type: 'alloc_replica', group: 3, node: 'b~1' },
    );
    expect(results[1]).toEqual({ ok: true });
    expect(state.members.get('b~1')?.state).toBe('removed');
    expect(results[3]).toMatchObject({ ok: false, error: expect.stringMatching(/drained and removed/) });
    expect(results[4]).toMatchObject({ ok: false });
  });

  it('refuses a drain that would leave fewer than three active nodes', () => {
    const { state, results } = run(
      initialClusterState('cl', founders),
      { type: 'drain', id: 'b~1' },
      { type: 'join', id: 'd~1', name: 'd', address: 'd:4000' },
      { type: 'drain', id: 'b~1' },
      { type: 'drain', id: 'a~1' },
      { type: 'drain', id: 'b~1' },
    );
    expect(results[0]).toEqual({
      ok: false,
      error: 'draining b would leave 2 active nodes; at least 3 must remain, so add a node first',
    });
    expect(results[2]).toEqual({ ok: true });
    expect(results[3]).toMatchObject({ ok: false, error: expect.stringMatching(/would leave 2 active/) });
    // Draining again a node already draining is a no-op, not a refusal.
    expect(results[4]).toEqual({ ok: true });
    expect([...state.members.values()].filter((m) => m.state === 'active')).toHaveLength(3);
  });

  it('a member rejoining with a new address updates it', () => {
    const { state } = run(initialClusterState('cl', founders), {
      type: 'join',
      id: 'a~1',
      name: 'a',
      address: '10.0.0.9:4000',
    });
    expect(state.members.get('a~1')?.address).toBe('10.0.0.9:4000');
  });

  it('never hands out the same replica id twice, whatever happens in between', () => {
    const command = fc.oneof(
      fc.record({
        type: fc.constant('alloc_replica' as const),
        group: fc.nat(256),
        node: fc.constantFrom('a~1', 'b~1', 'c~1'),
      }),
      fc.record({ type: fc.constant('drain' as const), id: fc.constantFrom('a~1', 'b~1', 'c~1') }),
      fc.record({ type: fc.constant('removed' as const), id: fc.constantFrom('a~1', 'b~1', 'c~1') }),
      fc.record({
        type: fc.constant('join' as const),
        id: fc.constantFrom('a~1', 'd~1', 'c~2'),
        name: fc.constantFrom('a', 'c', 'd'),
        address: fc.constant('x:1'),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        let state = initialClusterState('cl', founders);
        const ids = new Set<string>();
        for (const c of commands) {
          const r = applyClusterCommand(state, c);
          state = r.state;
          // Snapshots round-trip at any point.
          expect(encodeClusterState(decodeClusterState(encodeClusterState(state)))).toEqual(
            encodeClusterState(state),
          );
          if (r.result.ok && r.result.replica) {
            expect(ids.has(r.result.replica)).toBe(false);
            ids.add(r.result.replica);
          }
        }
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});
