import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { ApiConflict, ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { ParseIdPipe } from '../common/validation';
import type { Actor } from '../identity/actor';
import { CurrentActor } from '../identity/auth.decorators';
import { CreateServiceDto, ServiceView, UpdateServiceDto } from './provider-service.dto';
import { ProviderServicesService } from './provider-services.service';

class ServiceListQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'only this provider department' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  departmentId?: string;
}

@ApiTags('organisation')
@ApiSignedIn()
@Controller('services')
export class ProviderServicesController {
  constructor(private readonly services: ProviderServicesService) {}

  @Post()
  @ApiCreatedResponse({ type: ServiceView })
  @ApiConflict('code taken in that department')
  create(@CurrentActor() actor: Actor, @Body() body: CreateServiceDto): Promise<ServiceView> {
    return this.services.create(actor, body);
  }

  @Get()
  @ApiOkResponse({ type: Page<ServiceView> })
  list(@Query() query: ServiceListQuery): Promise<Page<ServiceView>> {
    return this.services.list(query.departmentId, query.cursor, query.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: ServiceView })
  @ApiMissing('Service')
  get(@Param('id', ParseIdPipe) id: string): Promise<ServiceView> {
    return this.services.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: ServiceView })
  @ApiMissing('Service')
  update(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: UpdateServiceDto): Promise<ServiceView> {
    return this.services.update(actor, id, body);
  }
}
