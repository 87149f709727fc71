import { createHash } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
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
export function mountQueueBoard(app: INestApplication): void {
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: false })),
    serverAdapter: board,
  });
  const users = app.get(UsersRepository);
  const hasher = app.get(PasswordHasher);
  const signedIn = new Map<string, number>();

  const guard = async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const key = createHash('sha256').update(header).digest('hex');
    if ((signedIn.get(key) ?? 0) > Date.now()) return next();
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? await users.findByEmailWithHash(decoded.slice(0, colon)) : null;
      if (user && user.active && (user.role === 'ops' || user.role === 'admin') && (await hasher.verify(user.passwordHash, decoded.slice(colon + 1)))) {
        if (signedIn.size > 1000) signedIn.clear();
        signedIn.set(key, Date.now() + SIGN_IN_CACHE_MS);
        return next();
      }
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="Handoff queues (ops or admin)", charset="UTF-8"');
    res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Sign in as an ops or admin user', requestId: (req as Request & { id?: string }).id });
  };
  app.use(QUEUE_BOARD_PATH, (req: Request, res: Response, next: NextFunction) => void guard(req, res, next).catch(next), board.getRouter());
}
