import { describe, expect, it } from 'vitest';
import { DEFAULT_RAFT_CONFIG, RaftConfigError, validateRaftConfig } from '../../src/raft/config.js';

describe('validateRaftConfig', () => {
  it('validateRaftConfig – fills defaults', () => {
    expect(validateRaftConfig({})).toEqual(DEFAULT_RAFT_CONFIG);
    expect(validateRaftConfig({ election_ticks: 20 }).election_ticks).toBe(20);
  });

  it('validateRaftConfig – names the field of a bad value', () => {
    expect(() => validateRaftConfig({ max_inflight_msgs: 0 })).toThrow(/max_inflight_msgs/);
    expect(() => validateRaftConfig({ election_ticks: 1.5 })).toThrow(/election_ticks/);
    expect(() => validateRaftConfig({ heartbeat_ticks: 10, election_ticks: 10 })).toThrow(/heartbeat_ticks/);
    expect(() => validateRaftConfig({ check_quorum: 'yes' as unknown as boolean })).toThrow(/check_quorum/);
  });

  it('validateRaftConfig – rejects unknown settings, including test-only switches', () => {
    const bad = { bugs: { commit_old_term: true } } as unknown as Parameters<typeof validateRaftConfig>[0];
    expect(() => validateRaftConfig(bad)).toThrow(RaftConfigError);
    expect(() => validateRaftConfig(bad)).toThrow(/bugs: unknown setting/);
  });
});
