import { once } from "node:events";
import WebSocket from "ws";
import type { CpuProfile } from "./cpu-profile-summary.js";

/**
 * Another Node process's inspector (started with `--inspect=127.0.0.1:<port>`): the heap in use
 * after full collections. RSS alone moves with the collector's timing and the allocator's pages;
 * this figure is what is live. Nothing in the process measured changes for it (no endpoint, no
 * --expose-gc).
 */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
    await once(socket, "open");
    return new Inspector(socket);
  }

  private call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (result: unknown) => void);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts V8's sampling CPU profiler (one sample a millisecond), e.g. for one phase of a run. */
  async startProfile(): Promise<void> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: 1_000 });
    await this.call("Profiler.start");
  }

  /** The profile since `startProfile` (a `.cpuprofile`'s content). */
  async stopProfile(): Promise<CpuProfile> {
    return (await this.call<{ profile: CpuProfile }>("Profiler.stop")).profile;
  }

  /**
   * Heap in use after full collections, in kB. Three passes: objects with finalizers or weak
   * references (sockets, streams) need more than one to go.
   */
  async heapAfterGcKb(): Promise<number> {
    for (let i = 0; i < 3; i++) await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call<{ usedSize: number }>("Runtime.getHeapUsage");
    return Math.round(usage.usedSize / 1024);
  }

  close(): void {
    this.socket.close();
  }
}
