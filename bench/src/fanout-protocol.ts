import type { SparseHistogram } from './latency-histogram.js';

/** Messages between the fan-out orchestrator and its subscriber processes (over the IPC channel). */
export type ToSubscribers =
  | { type: 'clock'; parent_ms: number }
  | {
      type: 'connect';
      url: string;
      count: number;
      client: 'raw' | 'ws';
      /** Highest seq the run will produce; sizes the arrival tables. */
      seq_max: number;
      /** Frames with a version from here on count towards throughput. */
      measure_from_version: number;
    }
  | { type: 'await_seq'; seq: number; timeout_ms: number }
  | {
      type: 'report';
      from_seq: number;
      to_seq: number;
      /** Parent-clock times (ms since the epoch) of each seq's send and HTTP ack, index = seq - from_seq. */
      sent_ms: number[];
      acked_ms: number[];
      /** Child clock minus parent clock, measured over IPC. */
      offset_ms: number;
    }
  | { type: 'disconnect' }
  | { type: 'exit' };

export type FromSubscribers =
  | { type: 'clock'; parent_ms: number; child_ms: number }
  | { type: 'connected'; count: number }
  | { type: 'reached'; all: boolean; behind: number }
  | {
      type: 'report';
      from_ack: SparseHistogram;
      from_send: SparseHistogram;
      frames: number;
      message_frames: number;
      missed: number;
      duplicates: number;
      out_of_order: number;
      unexpected: number;
      /** Close codes of clients that were closed before the end, with counts. */
      closed_early: Record<string, number>;
    }
  | { type: 'disconnected' }
  | { type: 'failed'; message: string };

/** The wall clock with sub-millisecond resolution, comparable across processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();
