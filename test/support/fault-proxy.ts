/**
 * A TCP relay between a client and a (simulated) controller that the tests
 * drive: delay, split every byte, cut, black-hole, flip a bit, inject bytes.
 * Faults apply to the controller → client direction unless said otherwise.
 */
import * as net from "node:net";

export interface ProxyFaults {
  /** Delay of every chunk (ms). */
  delayMs: number;
  /** Deliver every byte on its own. */
  splitBytes: boolean;
  /** Swallow everything from now on (no RST, no FIN). */
  blackHole: boolean;
  /** Flip one bit of the byte at this offset of the controller → client stream (counted from now). */
  flipBitAt: number | undefined;
}

export class FaultProxy {
  readonly faults: ProxyFaults = { delayMs: 0, splitBytes: false, blackHole: false, flipBitAt: undefined };
  private readonly pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  private downstreamBytes = 0;
  connections = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = net.createServer((client) => proxy!.relay(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Flip a bit `offset` bytes into what the controller sends next. */
  flipBitInNext(offset: number): void {
    this.faults.flipBitAt = this.downstreamBytes + offset;
  }

  /** Sends raw bytes to every client as if the controller had sent them. */
  injectToClients(bytes: Buffer): void {
    for (const p of this.pairs) p.client.write(bytes);
  }

  /** Ends every relayed connection: FIN by default, RST with `reset`. */
  cut(reset = false): void {
    for (const p of this.pairs) {
      if (reset) {
        p.client.resetAndDestroy();
        p.server.resetAndDestroy();
      } else {
        p.client.end();
        p.server.end();
      }
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, port: number, host: string): void {
    this.connections++;
    const server = net.connect({ port, host });
    const pair = { client, server };
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", drop).on("close", drop);
    server.on("error", drop).on("close", drop);
    client.on("data", (chunk: Buffer) => {
      if (!this.faults.blackHole) server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (this.faults.blackHole) return;
      const out = Buffer.from(chunk);
      const at = this.faults.flipBitAt;
      if (at !== undefined && at >= this.downstreamBytes && at < this.downstreamBytes + out.length) {
        out.writeUInt8(out.readUInt8(at - this.downstreamBytes) ^ 0x01, at - this.downstreamBytes);
        this.faults.flipBitAt = undefined;
      }
      this.downstreamBytes += out.length;
      const deliver = (): void => {
        if (client.destroyed) return;
        if (this.faults.splitBytes) for (const b of out) client.write(Buffer.from([b]));
        else client.write(out);
      };
      if (this.faults.delayMs > 0) setTimeout(deliver, this.faults.delayMs);
      else deliver();
    });
  }
}
