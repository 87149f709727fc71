import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../common/app-config';
import { PasswordHasher } from './password-hasher';
import { UsersRepository } from './users.repository';

/** ADMIN_EMAIL + ADMIN_PASSWORD: the first start creates this admin; later starts leave it alone. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.initialAdmin;
    if (!admin || (await this.users.findByEmailWithHash(admin.email))) return;
    try {
      await this.users.save({ email: admin.email, name: 'Administrator', passwordHash: await this.hasher.hash(admin.password), role: 'admin', departmentId: null, active: true });
      this.logger.log(`created the first admin ${admin.email}`);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error; // another process created it first
    }
  }
}
