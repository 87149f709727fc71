import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server (Redis here) that can hold what clients send: while held,
 * their bytes wait in the proxy, in order, and `release()` lets them through. Nothing is dropped.
 */
export class HoldingProxy {
  private server: Server | null = null;
  private held = false;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  /** Client bytes that reached the proxy while it held them. */
  heldBytes = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      client.on('data', (chunk) => {
        if (!this.held) return void upstream.write(chunk);
        this.heldBytes += chunk.length;
        this.waiting.push(() => upstream.write(chunk));
      });
      upstream.on('data', (chunk) => client.write(chunk));
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  hold(): void {
    this.held = true;
    this.heldBytes = 0;
  }

  release(): void {
    this.held = false;
    for (const send of this.waiting.splice(0)) send();
  }

  async stop(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
