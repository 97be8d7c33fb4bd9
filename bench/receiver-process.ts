/**
 * Starts bench/receiver-child.ts (the receiver of the delivery benches, in a process of its own):
 * its port, and how many connections it has accepted so far.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ReceiverProcess {
  port: number;
  /** Connections (TLS sessions over HTTPS) the receiver has accepted so far. */
  accepted: () => Promise<number>;
  child: ChildProcess;
}

export async function startReceiverProcess(tls?: { certFile: string; keyFile: string }): Promise<ReceiverProcess> {
  // The bench's own execArgv (tsx's loader) comes along: the child is TypeScript.
  const child = fork(
    fileURLToPath(new URL('./receiver-child.ts', import.meta.url)),
    tls ? [tls.certFile, tls.keyFile] : [],
    { stdio: 'inherit' },
  );
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  return {
    port,
    child,
    accepted: async () => {
      const answer = once(child, 'message') as Promise<[{ connections: number }]>;
      child.send('count');
      return (await answer)[0].connections;
    },
  };
}
