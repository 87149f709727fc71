import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Throttle } from '@nestjs/throttler';
import { ErrorBody } from '../common/error-shape';
import type { Actor } from './actor';
import { CurrentActor, Public } from './auth.decorators';
import { AuthService } from './auth.service';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { LoginAnswer, LoginDto, UserView } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('identity')
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @UseGuards(LoginThrottlerGuard)
  @Throttle({ login: { limit: 10, ttl: 60_000 } })
  @Post('auth/login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginAnswer })
  @ApiUnauthorizedResponse({ type: ErrorBody, description: 'wrong email or password' })
  @ApiTooManyRequestsResponse({ type: ErrorBody, description: 'more than 10 attempts a minute for one email' })
  login(@Body() body: LoginDto): Promise<LoginAnswer> {
    return this.auth.login(body.email, body.password);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: UserView })
  @ApiUnauthorizedResponse({ type: ErrorBody })
  me(@CurrentActor() actor: Actor): Promise<UserView> {
    return this.users.get(actor.id);
  }
}
