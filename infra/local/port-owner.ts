/**
 * Which process listens on a local TCP port, so that `npm start` can say who holds a port it
 * cannot take. Linux only (/proc); elsewhere, or for another user's process, it is unknown.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortOwner {
  pid: number;
  /** Whether the process is an `npm start` of rekey (its command line runs infra/local/start.ts). */
  rekey: boolean;
}

/** The process listening on `port` (any local address), or undefined when it cannot be told. */
export function portOwner(port: number): PortOwner | undefined {
  try {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        } catch {
          continue;
        }
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) {
          const pid = Number(entry);
          return { pid, rekey: commandLine(pid).includes('infra/local/start.ts') };
        }
      }
    }
  } catch {
    // Not Linux, or /proc unreadable.
  }
  return undefined;
}

/** The socket inodes listening on `port`, from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = fields;
      if (state === '0A' && local?.endsWith(`:${hexPort}`) && inode && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
