import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A minimal RFC 6455 client for load generation: the real handshake and real
 * frames over TCP, but frames are handed over as slices of the received chunk
 * instead of being copied and emitted one event each. One process can then
 * follow hundreds of busy sockets without becoming the bottleneck it measures.
 */
export interface RawFrameHandler {
  /** The payload is `buf[start, end)`, valid only during the call; `at` is when its TCP chunk arrived. */
  frame(opcode: number, buf: Buffer, start: number, end: number, at: number): void;
  close(code: number): void;
}

const accept_guid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const opcode_text = 0x1;
const opcode_close = 0x8;
const opcode_ping = 0x9;
const opcode_pong = 0xa;
const handshake_bytes_max = 16 * 1024;

export class RawWebSocket {
  private pending: Buffer | undefined;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly handler: RawFrameHandler,
    private readonly clock: () => number,
  ) {}

  static open(url: string, handler: RawFrameHandler, clock: () => number): Promise<RawWebSocket> {
    const target = new URL(url);
    const key = randomBytes(16).toString('base64');
    const expected = createHash('sha1')
      .update(key + accept_guid)
      .digest('base64');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.hostname, port: Number(target.port) });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      const onHandshake = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > handshake_bytes_max) fail(new Error('handshake response too large'));
          return;
        }
        socket.off('data', onHandshake);
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        if (!/^HTTP\/1\.1 101 /.test(lines[0] ?? '')) {
          return fail(new Error(`upgrade refused: ${lines[0]} ${head.subarray(end + 4).toString()}`));
        }
        const acceptLine = lines.find((l) => l.toLowerCase().startsWith('sec-websocket-accept:'));
        if (acceptLine?.slice(acceptLine.indexOf(':') + 1).trim() !== expected) {
          return fail(new Error('bad Sec-WebSocket-Accept'));
        }
        const ws = new RawWebSocket(socket, handler, clock);
        socket.on('data', (data: Buffer) => ws.receive(data));
        socket.on('close', () => ws.finish(1006));
        socket.off('error', fail);
        socket.on('error', () => ws.finish(1006));
        const rest = head.subarray(end + 4);
        resolve(ws);
        if (rest.length > 0) ws.receive(rest);
      };
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.on('data', onHandshake);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  sendText(text: string): void {
    this.sendFrame(opcode_text, Buffer.from(text));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.sendFrame(opcode_close, payload);
    this.socket.end();
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    if (payload.length > 125) throw new Error('client frames here are control-sized');
    if (this.socket.destroyed) return;
    const mask = randomBytes(4);
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    mask.copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.close(code);
  }

  private receive(chunk: Buffer): void {
    const at = this.clock();
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    for (;;) {
      if (buf.length - offset < 2) break;
      const b0 = buf[offset]!;
      const b1 = buf[offset + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - offset < 4) break;
        length = buf.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - offset < 10) break;
        length = buf.readUInt32BE(offset + 6) + buf.readUInt32BE(offset + 2) * 2 ** 32;
        header = 10;
      }
      if ((b1 & 0x80) !== 0) throw new Error('server frames must not be masked');
      if (buf.length - offset < header + length) break;
      const start = offset + header;
      offset = start + length;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0) throw new Error('fragmented frames are not expected from this server');
      if (opcode === opcode_ping) this.sendFrame(opcode_pong, Buffer.from(buf.subarray(start, offset)));
      else if (opcode === opcode_close) {
        this.finish(length >= 2 ? buf.readUInt16BE(start) : 1005);
        this.socket.end();
        return;
      } else this.handler.frame(opcode, buf, start, offset, at);
    }
    if (offset < buf.length) {
      // Keep only the unread tail; copying it detaches it from the large chunk.
      buf = buf.subarray(offset);
      this.pending = Buffer.from(buf);
    }
  }
}
