import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { ApiConflict, ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { ParseIdPipe } from '../common/validation';
import type { Actor } from '../identity/actor';
import { CurrentActor } from '../identity/auth.decorators';
import { AgreementView, CreateAgreementDto, UpdateAgreementDto } from './agreement.dto';
import { AgreementsService } from './agreements.service';

class AgreementListQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a service id (UUID)' })
  serviceId?: string;
}

@ApiTags('agreements')
@ApiSignedIn()
@Controller('agreements')
export class AgreementsController {
  constructor(private readonly agreements: AgreementsService) {}

  @Post()
  @ApiCreatedResponse({ type: AgreementView })
  @ApiConflict('an active agreement already covers this scope')
  create(@CurrentActor() actor: Actor, @Body() body: CreateAgreementDto): Promise<AgreementView> {
    return this.agreements.create(actor, body);
  }

  @Get()
  @ApiOkResponse({ type: Page<AgreementView> })
  list(@Query() query: AgreementListQuery): Promise<Page<AgreementView>> {
    return this.agreements.list(query.serviceId, query.cursor, query.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: AgreementView })
  @ApiMissing('Agreement')
  get(@Param('id', ParseIdPipe) id: string): Promise<AgreementView> {
    return this.agreements.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: AgreementView, description: 'the new version' })
  @ApiMissing('Agreement')
  update(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: UpdateAgreementDto): Promise<AgreementView> {
    return this.agreements.update(actor, id, body);
  }
}
