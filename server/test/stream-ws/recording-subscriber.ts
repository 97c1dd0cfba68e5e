import type { StreamServerFrame } from '@fastpaca/contract';
import { type CloseInfo, openStream, type StreamClient } from './stream-client.js';

/** One connection of a subscriber: the cursor it asked for and what it received. */
export interface Session {
  cursor: number;
  includeMessages: boolean;
  frames: StreamServerFrame[];
  invalid: { raw: string; problem: string }[];
  close: CloseInfo | undefined;
}

/** The frames of one version, as a subscriber received them. */
export interface VersionGroup {
  version: number;
  includeMessages: boolean;
  frames: StreamServerFrame[];
}

const endsVersion = (f: StreamServerFrame) => f.type === 'context' || f.type === 'tombstoned';

/**
 * A subscriber that behaves like a well-written client: it remembers the last
 * version it received completely (a version ends with its `context` or
 * `tombstoned` frame) and reconnects from there, so a version cut in half by a
 * disconnect is received again in full on the next connection.
 */
export class RecordingSubscriber {
  readonly sessions: Session[] = [];
  private client: StreamClient | undefined;
  private lastComplete: number;

  constructor(
    readonly baseUrl: string,
    readonly contextId: string,
    readonly firstCursor: number,
  ) {
    this.lastComplete = firstCursor;
  }

  /** Last version received completely. */
  get version(): number {
    return this.lastComplete;
  }

  get connected(): boolean {
    return this.client !== undefined && this.client.closeState === undefined;
  }

  async connect(includeMessages: boolean): Promise<StreamClient> {
    if (this.client) throw new Error('already connected');
    const session: Session = {
      cursor: this.lastComplete,
      includeMessages,
      frames: [],
      invalid: [],
      close: undefined,
    };
    const client = await openStream(this.baseUrl, this.contextId, {
      cursor: session.cursor,
      includeMessages,
    });
    this.sessions.push(session);
    this.client = client;
    session.frames = client.frames;
    session.invalid = client.invalid;
    // Frames that arrived between the upgrade and this point are already in `frames`.
    for (const f of client.frames)
      if (endsVersion(f)) this.lastComplete = Math.max(this.lastComplete, f.version);
    client.onFrame = (f) => {
      if (endsVersion(f)) this.lastComplete = f.version;
    };
    void client.closed.then((info) => {
      session.close = info;
    });
    return client;
  }

  async disconnect(abrupt: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    client.onFrame = undefined;
    if (abrupt) await client.terminate();
    else await client.close();
    // A graceful close can still deliver frames while closing; count only what ended a version before.
    for (const f of client.frames)
      if (endsVersion(f)) this.lastComplete = Math.max(this.lastComplete, f.version);
  }

  /** Connects if needed and waits until `version` has been received completely. */
  async catchUp(version: number, includeMessages: boolean, timeoutMs = 15_000): Promise<void> {
    if (this.lastComplete >= version) return;
    const client = this.client ?? (await this.connect(includeMessages));
    await client.waitFor((f) => endsVersion(f) && f.version >= version, timeoutMs);
  }

  /**
   * Every session's complete versions in order. A trailing version without its
   * closing frame was cut by a disconnect and is dropped, as a client would.
   */
  groups(): VersionGroup[] {
    const out: VersionGroup[] = [];
    for (const session of this.sessions) {
      const events = session.frames.filter((f) => f.type !== 'ping');
      let end = -1;
      events.forEach((f, i) => {
        if (endsVersion(f)) end = i;
      });
      let current: VersionGroup | undefined;
      for (const f of events.slice(0, end + 1)) {
        if (!current || current.version !== f.version) {
          current = { version: f.version, includeMessages: session.includeMessages, frames: [] };
          out.push(current);
        }
        current.frames.push(f);
      }
    }
    return out;
  }
}
