import { Module } from '@nestjs/common';
import { AdminBootstrap } from './admin-bootstrap';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  controllers: [AuthController, UsersController],
  providers: [AuthService, UsersService, PasswordHasher, AdminBootstrap],
  exports: [PasswordHasher],
})
export class IdentityModule {}
