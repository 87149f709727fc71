import { createHash } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BoardAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueueName } from '../escalation/queues';
import { PasswordHasher } from '../identity/password-hasher';
import { UsersRepository } from '../identity/users.repository';

export const QUEUE_BOARD_PATH = '/admin/queues';
const SIGN_IN_CACHE_MS = 60_000;

/**
 * bull-board at /admin/queues for ops and admin. A browser page cannot send our bearer token,
 * so it asks for the Handoff email and password with HTTP Basic; a good sign-in is remembered
 * for a minute (argon2 on every asset would be slow).
 */
export async function mountQueueBoard(app: NestFastifyApplication): Promise<void> {
  const board = new BoardAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: false })),
    serverAdapter: board,
  });
  const users = app.get(UsersRepository);
  const hasher = app.get(PasswordHasher);
  const signedIn = new Map<string, number>();

  const signInAsOps = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const key = createHash('sha256').update(header).digest('hex');
    if ((signedIn.get(key) ?? 0) > Date.now()) return;
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? await users.findByEmailWithHash(decoded.slice(0, colon)) : null;
      if (user && user.active && (user.role === 'ops' || user.role === 'admin') && (await hasher.verify(user.passwordHash, decoded.slice(colon + 1)))) {
        if (signedIn.size > 1000) signedIn.clear();
        signedIn.set(key, Date.now() + SIGN_IN_CACHE_MS);
        return;
      }
    }
    await reply
      .status(401)
      .header('WWW-Authenticate', 'Basic realm="Handoff queues (ops or admin)", charset="UTF-8"')
      .send({ statusCode: 401, error: 'Unauthorized', message: 'Sign in as an ops or admin user', requestId: request.id });
  };
  // The sign-in hook and the board share one encapsulated scope: the hook guards the board's routes only.
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', signInAsOps);
    await scope.register(board.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
  });
}
