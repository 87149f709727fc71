import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiConflict, ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { ParseIdPipe } from '../common/validation';
import { Roles } from './auth.decorators';
import { CreateUserDto, UpdateUserDto, UserView } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('identity')
@ApiSignedIn()
@Roles('admin')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiCreatedResponse({ type: UserView })
  @ApiConflict('email taken')
  create(@Body() body: CreateUserDto): Promise<UserView> {
    return this.users.create(body);
  }

  @Get()
  @ApiOkResponse({ type: Page<UserView> })
  list(@Query() query: PageQuery): Promise<Page<UserView>> {
    return this.users.list(query.cursor, query.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserView })
  @ApiMissing('User')
  get(@Param('id', ParseIdPipe) id: string): Promise<UserView> {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserView })
  @ApiMissing('User')
  update(@Param('id', ParseIdPipe) id: string, @Body() body: UpdateUserDto): Promise<UserView> {
    return this.users.update(id, body);
  }
}
