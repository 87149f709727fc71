import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

export type ProcessRole = 'api' | 'worker' | 'all';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  return value;
};

/** The SPEC's environment variables, with their defaults; validated once at start. */
class EnvironmentVariables {
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@localhost:5432/handoff';

  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://localhost:6379';

  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL = 'smtp://localhost:1025';

  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  MAIL_FROM = 'handoff@localhost';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsIn(['api', 'worker', 'all'], { message: 'must be one of api, worker, all' })
  ROLE: ProcessRole = 'all';

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string;

  @IsOptional()
  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  ADMIN_PASSWORD?: string;

  @Transform(toBool)
  @IsIn([true, false], { message: 'must be true or false' })
  MIGRATIONS_RUN = true;

  // Unset: this host on PORT (the SPEC's http://localhost:3000 with the default port), so links work when PORT moves.
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http(s) URL' })
  PUBLIC_URL?: string;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1)
  @Max(86400)
  RECONCILE_INTERVAL_S = 30;

  @Matches(/^[A-Za-z0-9_:{}.-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits and _:{}.-' })
  QUEUE_PREFIX = 'handoff';

  @IsIn(['development', 'production', 'test'], { message: 'must be development, production or test' })
  NODE_ENV = 'development';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(10)
  @Max(3_600_000)
  MAIL_RETRY_BASE_MS = 2000;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(10)
  @Max(86_400_000)
  MAIL_RETRY_MAX_MS = 3_600_000;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1)
  @Max(30 * 86400)
  MAIL_GIVE_UP_AFTER_S = 26 * 3600;
}

export class ConfigurationError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
  }
}

/** Typed, validated configuration; read through these getters, never through process.env. */
export class AppConfig {
  private constructor(private readonly env: EnvironmentVariables) {}

  static fromEnvironment(source: NodeJS.ProcessEnv = process.env): AppConfig {
    const given: Record<string, string> = {};
    for (const key of Object.keys(new EnvironmentVariables())) {
      const value = source[key];
      if (value !== undefined && value !== '') given[key] = value;
    }
    for (const key of ['JWT_SECRET', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'PUBLIC_URL']) {
      if (source[key]) given[key] = source[key] as string;
    }
    const env = plainToInstance(EnvironmentVariables, given, { exposeDefaultValues: true });
    const errors = validateSync(env, { skipMissingProperties: false });
    if (errors.length > 0) {
      const first = errors[0];
      const problem = Object.values(first.constraints ?? { invalid: 'is invalid' })[0].replace(/^\S+ /, (w) =>
        w === `${first.property} ` ? '' : w,
      );
      throw new ConfigurationError(first.property, `${problem} (got ${JSON.stringify(given[first.property])})`);
    }
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      throw new ConfigurationError('JWT_SECRET', 'must be set in production (at least 32 random characters)');
    }
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      const missing = env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL';
      throw new ConfigurationError(missing, 'must be set together with ' + (missing === 'ADMIN_EMAIL' ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'));
    }
    if (!env.JWT_SECRET) env.JWT_SECRET = randomBytes(32).toString('hex');
    return new AppConfig(env);
  }

  /** For tests and scripts: the validated defaults with some variables replaced. */
  static with(overrides: Record<string, string>): AppConfig {
    return AppConfig.fromEnvironment({ ...process.env, ...overrides });
  }

  get databaseUrl(): string {
    return this.env.DATABASE_URL;
  }
  get redisUrl(): string {
    return this.env.REDIS_URL;
  }
  get smtpUrl(): string {
    return this.env.SMTP_URL;
  }
  get mailFrom(): string {
    return this.env.MAIL_FROM;
  }
  get port(): number {
    return this.env.PORT;
  }
  get role(): ProcessRole {
    return this.env.ROLE;
  }
  get runsApi(): boolean {
    return this.env.ROLE !== 'worker';
  }
  get runsWorker(): boolean {
    return this.env.ROLE !== 'api';
  }
  get jwtSecret(): string {
    return this.env.JWT_SECRET as string;
  }
  get initialAdmin(): { email: string; password: string } | null {
    return this.env.ADMIN_EMAIL && this.env.ADMIN_PASSWORD
      ? { email: this.env.ADMIN_EMAIL.toLowerCase(), password: this.env.ADMIN_PASSWORD }
      : null;
  }
  get migrationsRun(): boolean {
    return this.env.MIGRATIONS_RUN;
  }
  get publicUrl(): string {
    return (this.env.PUBLIC_URL ?? `http://localhost:${this.env.PORT}`).replace(/\/+$/, '');
  }
  get reconcileIntervalSeconds(): number {
    return this.env.RECONCILE_INTERVAL_S;
  }
  get queuePrefix(): string {
    return this.env.QUEUE_PREFIX;
  }
  /** Mail retries back off exponentially from the base, each wait capped, until MAIL_GIVE_UP_AFTER_S after the mail was written. */
  get mailRetry(): { baseMs: number; maxMs: number; giveUpMs: number } {
    const { MAIL_RETRY_BASE_MS: baseMs, MAIL_RETRY_MAX_MS: maxMs, MAIL_GIVE_UP_AFTER_S: giveUpS } = this.env;
    return { baseMs, maxMs: Math.max(maxMs, baseMs), giveUpMs: giveUpS * 1000 };
  }
  get isDevelopment(): boolean {
    return this.env.NODE_ENV === 'development';
  }
  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }
  get isTest(): boolean {
    return this.env.NODE_ENV === 'test';
  }
}

/** Reads ./.env when there is one; variables already set in the environment win. */
export function loadDotEnvIfPresent(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
