/** Turns a refused or failed connection into one line that says what, where and how to fix it. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || (u.protocol.startsWith('postgres') ? 5432 : 6379)}`;
  } catch {
    return url;
  }
}

export function postgresUnreachableMessage(url: string, cause: unknown): string {
  const reason = (cause as { code?: string; message?: string })?.code ?? (cause as Error)?.message ?? String(cause);
  return (
    `PostgreSQL is not reachable at ${describeUrl(url)} (DATABASE_URL; ${reason}). ` +
    `Start it (on this machine: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start; ` +
    `with Docker: docker compose up -d postgres) or point DATABASE_URL at a running server.`
  );
}

export function redisUnreachableMessage(url: string, cause: unknown): string {
  const reason = (cause as { code?: string; message?: string })?.code ?? (cause as Error)?.message ?? String(cause);
  return (
    `Redis is not reachable at ${describeUrl(url)} (REDIS_URL; ${reason}). ` +
    `Start it (on this machine: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; ` +
    `with Docker: docker compose up -d redis) or point REDIS_URL at a running server.`
  );
}

/** An error whose message is already the one line to print; start-up prints it without a stack. */
export class StartupError extends Error {}
