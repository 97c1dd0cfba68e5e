import {
  type CompactionFrame,
  type ContextFrame,
  type MessageFrame,
  type StreamServerFrame,
  StreamServerFrameSchema,
  type TombstonedFrame,
} from '@fastpaca/contract';

/** Frames that belong to a version group and reach the consumer. */
export type GroupFrame = MessageFrame | CompactionFrame | ContextFrame | TombstonedFrame;

/** Frame types this SDK knows: the contract's, so a frame added there is parsed here without an edit. */
const knownTypes: ReadonlySet<string> = new Set(
  StreamServerFrameSchema.optionsMap.keys() as Iterable<string>,
);

export type ParsedFrame =
  | { kind: 'frame'; frame: StreamServerFrame }
  | { kind: 'unknown' }
  | { kind: 'invalid'; problem: string };

/**
 * Parses a server frame against the contract's schema. Frame types this SDK
 * does not know are skipped, so an older client keeps working against a newer
 * server; a known frame that breaks its schema is a protocol error.
 */
export function parseFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: 'frame is not JSON' };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return { kind: 'invalid', problem: 'frame has no type' };
  if (!knownTypes.has(type)) return { kind: 'unknown' };
  const parsed = StreamServerFrameSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'invalid', problem: `${type} frame: ${issue?.path.join('.')}: ${issue?.message}` };
  }
  return { kind: 'frame', frame: parsed.data };
}

export const pongFrame = JSON.stringify({ type: 'pong' });
