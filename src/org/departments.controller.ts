import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiConflict, ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { ParseIdPipe } from '../common/validation';
import { Roles } from '../identity/auth.decorators';
import { CreateDepartmentDto, DepartmentView, UpdateDepartmentDto } from './department.dto';
import { DepartmentsService } from './departments.service';

@ApiTags('organisation')
@ApiSignedIn()
@Controller('departments')
export class DepartmentsController {
  constructor(private readonly departments: DepartmentsService) {}

  @Roles('admin')
  @Post()
  @ApiCreatedResponse({ type: DepartmentView })
  @ApiConflict('code taken')
  create(@Body() body: CreateDepartmentDto): Promise<DepartmentView> {
    return this.departments.create(body);
  }

  @Get()
  @ApiOkResponse({ type: Page<DepartmentView> })
  list(@Query() query: PageQuery): Promise<Page<DepartmentView>> {
    return this.departments.list(query.cursor, query.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: DepartmentView })
  @ApiMissing('Department')
  get(@Param('id', ParseIdPipe) id: string): Promise<DepartmentView> {
    return this.departments.get(id);
  }

  @Roles('admin')
  @Patch(':id')
  @ApiOkResponse({ type: DepartmentView })
  @ApiMissing('Department')
  @ApiConflict('code taken')
  update(@Param('id', ParseIdPipe) id: string, @Body() body: UpdateDepartmentDto): Promise<DepartmentView> {
    return this.departments.update(id, body);
  }
}
