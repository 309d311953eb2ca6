import { once } from "node:events";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import WebSocket from "ws";

/**
 * Looks into another Node process through its inspector (started with `--inspect=host:port`):
 * a full garbage collection and the heap in use after it, and the kinds of its active resources.
 * Nothing in the process under test changes for it: no test-only endpoint, no --expose-gc.
 */
export class InspectorProbe {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) return;
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(message.error.message));
      else waiting?.resolve(message.result);
    });
  }

  static async connect(port: number): Promise<InspectorProbe> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
    await once(socket, "open");
    return new InspectorProbe(socket);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Bytes of heap in use after full collections. Collected three times: objects with finalizers
   * or weak references (sockets, streams) need more than one pass to go.
   */
  async heapAfterGc(): Promise<number> {
    for (let i = 0; i < 3; i++) await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call<{ usedSize: number }>("Runtime.getHeapUsage");
    return usage.usedSize;
  }

  /** How many active resources of each kind the process holds (`process.getActiveResourcesInfo`). */
  async activeResources(): Promise<Record<string, number>> {
    const answer = await this.call<{ result: { value: string } }>("Runtime.evaluate", {
      expression: "JSON.stringify(process.getActiveResourcesInfo())",
      returnByValue: true,
    });
    const counts: Record<string, number> = {};
    for (const kind of JSON.parse(answer.result.value) as string[])
      counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  }

  close(): void {
    this.socket.close();
  }
}

/** One TCP connection of a process (Linux /proc): its local and remote ports. */
export interface TcpConnection {
  localPort: number;
  remotePort: number;
}

const ESTABLISHED = "01";

/**
 * The established TCP connections a process holds, read from /proc: its socket inodes
 * (/proc/<pid>/fd) matched against the kernel's connection tables. Exact, and seen from outside.
 */
export function tcpConnections(pid: number): TcpConnection[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed while listed
    }
  }
  const connections: TcpConnection[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== ESTABLISHED || !inodes.has(fields[9]!)) continue;
      const port = (address: string) => parseInt(address.split(":").at(-1)!, 16);
      connections.push({ localPort: port(fields[1]!), remotePort: port(fields[2]!) });
    }
  }
  return connections;
}
