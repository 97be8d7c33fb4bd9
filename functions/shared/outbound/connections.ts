import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseIp } from './guard.ts';

/**
 * Keep-alive connections for the outbound client, within a warm instance, without weakening the
 * guard (docs/api.md §7). A connection is kept by an agent made for one *target*: protocol, host, port
 * and the exact set of addresses that the request's lookup answered and the guard allowed. The
 * agent's own options pin the lookup to those addresses and TLS's server name to the host (agent
 * options override a request's), so none of its connections can lead anywhere else, and a pooled
 * TLS connection is only reused for the host name its certificate was verified against. A
 * different DNS answer is a different target, so it is checked before it gets a connection of its
 * own; a request never reuses a connection made for an answer it has not checked itself.
 *
 * Bounded: at most MAX_TARGETS agents (least recently used retired first: its idle connections
 * closed at once, its busy ones when their exchange ends), at most MAX_IDLE_PER_TARGET idle
 * connections each, each closed after IDLE_TIMEOUT_MS (or sooner when the server announces a
 * shorter `Keep-Alive: timeout`).
 */

/** A little below the 5 s that Node, Apache and others keep an idle connection, so that we close first. */
export const IDLE_TIMEOUT_MS = 4_000;
export const MAX_TARGETS = 32;
export const MAX_IDLE_PER_TARGET = 16;

export interface Target {
  protocol: 'http:' | 'https:';
  /** The URL's host name or address literal (no brackets). */
  host: string;
  port: number;
  /** Every address the host was checked as (for a literal, the literal itself). */
  addresses: readonly string[];
}

export interface PinnedAgent extends http.Agent {
  /** Idle connections, closed now; connections in use, closed when their exchange ends. */
  retire(): void;
  /** Closes the idle connections: all of them, or only those whose idle time is up. */
  closeIdle(onlyExpired?: boolean): void;
}

const agents = new Map<string, PinnedAgent>();

/** The agent for the target: its own connections, pooled, to the target's checked addresses only. */
export function agentFor(target: Target): PinnedAgent {
  const { addresses } = target;
  const answer = addresses.length === 1 ? addresses[0] : [...addresses].sort().join(' ');
  const key = `${target.protocol}//${target.host}:${target.port} ${answer}`;
  let agent = agents.get(key);
  if (agent) {
    agents.delete(key); // re-inserted below: the Map's order is the order of last use
  } else {
    agent = pinnedAgent(target);
    while (agents.size >= MAX_TARGETS) {
      const [oldest, retired] = agents.entries().next().value!;
      agents.delete(oldest);
      retired.retire();
    }
  }
  agents.set(key, agent);
  // A frozen instance (Lambda between invocations) runs no timers, so after a thaw the idle timeouts
  // may not have fired yet: the clock decides before a connection is reused.
  agent.closeIdle(true);
  return agent;
}

/** Forgets every agent, closing idle connections now and busy ones when they are done (tests). */
export function resetConnections(): void {
  for (const agent of agents.values()) agent.retire();
  agents.clear();
}

/** How many agents there are and how many connections they hold (tests, benchmarks). */
export function connectionStats(): { targets: number; idle: number; busy: number } {
  let idle = 0;
  let busy = 0;
  for (const agent of agents.values()) {
    idle += Object.values(agent.freeSockets).reduce((sum, sockets) => sum + (sockets?.length ?? 0), 0);
    busy += Object.values(agent.sockets).reduce((sum, sockets) => sum + (sockets?.length ?? 0), 0);
  }
  return { targets: agents.size, idle, busy };
}

function pinnedAgent(target: Target): PinnedAgent {
  const literal = parseIp(target.host) !== undefined;
  const options: https.AgentOptions = {
    keepAlive: true,
    maxFreeSockets: MAX_IDLE_PER_TARGET,
    // Sockets idle for this long are destroyed by the agent (also its timeout while in use, where it does nothing).
    timeout: IDLE_TIMEOUT_MS,
    scheduling: 'lifo', // the most recently used first, so that spare connections go idle and close
    // Agent options override the request's: every connection of this agent is pinned.
    lookup: pinnedLookup(target.addresses),
    // TLS names and verifies the host name, not the address connected to (no SNI for an address literal,
    // whose certificate must name the address).
    ...(literal ? {} : { servername: target.host }),
  };
  const agent = (target.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options)) as PinnedAgent;
  /** When each idle socket expires: IDLE_TIMEOUT_MS after it went idle, or sooner if the server said so. */
  const expiry = new WeakMap<Duplex, number>();
  let retired = false;

  const keepSocketAlive = agent.keepSocketAlive.bind(agent);
  agent.keepSocketAlive = (socket: Duplex) => {
    if (retired) return false;
    // Node's own sets the socket's timeout: IDLE_TIMEOUT_MS, or less after a `Keep-Alive: timeout=…`.
    const kept = keepSocketAlive(socket) as unknown as boolean;
    if (kept) expiry.set(socket, Date.now() + ((socket as Socket).timeout || IDLE_TIMEOUT_MS));
    return kept;
  };
  agent.closeIdle = (onlyExpired = false) => {
    const now = Date.now();
    for (const name in agent.freeSockets) {
      const sockets = agent.freeSockets[name]!;
      for (let i = sockets.length - 1; i >= 0; i--) {
        if (onlyExpired && now < (expiry.get(sockets[i]!) ?? 0)) continue;
        // Out of the list at once: the agent would otherwise hand it out until its 'close' event.
        sockets.splice(i, 1)[0]!.destroy();
      }
    }
  };
  agent.retire = () => {
    retired = true;
    agent.closeIdle();
  };
  return agent;
}

/** A `lookup` that answers the checked addresses instead of asking DNS again. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const answers = addresses.map((address) => ({ address, family: parseIp(address)!.version }));
  return (_hostname, options, callback) => {
    const wanted = answers.filter((answer) => !options.family || answer.family === options.family);
    if (wanted.length === 0) return callback(new Error(`no IPv${options.family} address`), '');
    // Node asks for all addresses when it tries them in turn (happy eyeballs); they are all checked.
    if (options.all) return callback(null, wanted);
    return callback(null, wanted[0]!.address, wanted[0]!.family);
  };
}
