import type { IncomingMessage } from 'node:http';
import { type StreamServerFrame, StreamServerFrameSchema } from '@fastpaca/contract';
import WebSocket from 'ws';

/** A real websocket subscriber for black-box tests: validates every frame against the contract. */
export interface StreamClientOptions {
  cursor?: number | string;
  includeMessages?: boolean;
  /** Sent as `?token=`. */
  token?: string;
  headers?: Record<string, string>;
  protocols?: string[];
  /** Answer every `ping` frame with `pong` (default true). */
  autoPong?: boolean;
  /** Extra raw query text appended as is, for malformed-request tests. */
  rawQuery?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** The HTTP answer when the server refuses the upgrade. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`upgrade refused with HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

export class StreamClient {
  readonly frames: StreamServerFrame[] = [];
  /** Frames that did not match `StreamServerFrameSchema`, with the reason; tests expect none. */
  readonly invalid: { raw: string; problem: string }[] = [];
  readonly closed: Promise<CloseInfo>;
  /** Payload bytes received so far. */
  bytes = 0;
  private waiters: { test: (f: StreamServerFrame) => boolean; resolve: (f: StreamServerFrame) => void }[] =
    [];
  private closeInfo: CloseInfo | undefined;
  onFrame: ((frame: StreamServerFrame) => void) | undefined;

  constructor(
    readonly ws: WebSocket,
    autoPong: boolean,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => {
      // Errors surface as a close (code 1006) or an upgrade refusal; nothing else to do here.
    });
    ws.on('message', (data, isBinary) => {
      const raw = isBinary ? '<binary>' : data.toString();
      this.bytes += Buffer.isBuffer(data) ? data.length : raw.length;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        this.invalid.push({ raw: raw.slice(0, 200), problem: 'not JSON' });
        return;
      }
      const checked = StreamServerFrameSchema.safeParse(parsed);
      if (!checked.success) {
        this.invalid.push({ raw: raw.slice(0, 200), problem: checked.error.message });
        return;
      }
      const frame = checked.data;
      this.frames.push(frame);
      if (frame.type === 'ping' && autoPong && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'pong' }));
      }
      this.onFrame?.(frame);
      if (this.waiters.length > 0) {
        const pending = this.waiters;
        this.waiters = [];
        for (const w of pending) {
          if (w.test(frame)) w.resolve(frame);
          else this.waiters.push(w);
        }
      }
    });
  }

  get closeState(): CloseInfo | undefined {
    return this.closeInfo;
  }

  /** Resolves with the first frame (already received or future) that matches; rejects on close or timeout. */
  waitFor(test: (f: StreamServerFrame) => boolean, timeoutMs = 10_000): Promise<StreamServerFrame> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(this.frames.at(-1))}`),
        );
      }, timeoutMs);
      const done = (f: StreamServerFrame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ test, resolve: done });
      void this.closed.then((info) => {
        // A frame that arrived just before the close has already resolved the waiter.
        setImmediate(() => {
          clearTimeout(timer);
          reject(new Error(`closed (${info.code} ${info.reason}) before a matching frame arrived`));
        });
      });
    });
  }

  /** Waits for an event frame of this version or later (event frames carry the version that produced them). */
  waitForVersion(version: number, timeoutMs = 10_000): Promise<StreamServerFrame> {
    return this.waitFor(
      (f) => (f.type === 'context' || f.type === 'tombstoned') && f.version >= version,
      timeoutMs,
    );
  }

  /** The close, or a rejection naming what was received when it does not come in time. */
  closedWithin(timeoutMs = 10_000): Promise<CloseInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`not closed within ${timeoutMs} ms after ${this.frames.length} frames`));
      }, timeoutMs);
      void this.closed.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Closes from the client side and waits for the close to complete. */
  async close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code);
    return this.closed;
  }

  terminate(): Promise<CloseInfo> {
    this.ws.terminate();
    return this.closed;
  }
}

export function streamUrl(baseUrl: string, contextId: string, options: StreamClientOptions = {}): string {
  const params: string[] = [];
  if (options.cursor !== undefined) params.push(`cursor=${encodeURIComponent(String(options.cursor))}`);
  if (options.includeMessages !== undefined) params.push(`include_messages=${options.includeMessages}`);
  if (options.token !== undefined) params.push(`token=${encodeURIComponent(options.token)}`);
  if (options.rawQuery) params.push(options.rawQuery);
  const ws = baseUrl.replace(/^http/, 'ws');
  return `${ws}/v1/contexts/${encodeURIComponent(contextId)}/stream${params.length ? `?${params.join('&')}` : ''}`;
}

/**
 * Opens a stream and resolves once the upgrade completed. A refused upgrade
 * rejects with `UpgradeRefused` carrying the HTTP status and JSON body.
 */
export function openStream(
  baseUrl: string,
  contextId: string,
  options: StreamClientOptions = {},
): Promise<StreamClient> {
  const ws = new WebSocket(streamUrl(baseUrl, contextId, options), options.protocols ?? [], {
    headers: options.headers,
  });
  const client = new StreamClient(ws, options.autoPong ?? true);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        let parsed: unknown = body;
        try {
          parsed = JSON.parse(body);
        } catch {}
        reject(new UpgradeRefused(res.statusCode ?? 0, parsed));
        ws.terminate();
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Expects the upgrade to be refused and returns the refusal. */
export async function refusedUpgrade(
  baseUrl: string,
  contextId: string,
  options: StreamClientOptions = {},
): Promise<UpgradeRefused> {
  try {
    const client = await openStream(baseUrl, contextId, options);
    await client.terminate();
  } catch (error) {
    if (error instanceof UpgradeRefused) return error;
    throw error;
  }
  throw new Error('expected the upgrade to be refused, but it was accepted');
}

/**
 * Reads one series from the Prometheus text on `/metrics`. Every label given
 * must match; other labels (such as `node`) are ignored. Missing → 0.
 */
export async function metricValue(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(match[3]);
  }
  return total;
}

/** Polls until `read` satisfies `done`, or fails with the last value after the timeout. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
  stepMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
