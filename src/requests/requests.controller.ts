import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { invalid } from '../common/domain-error';
import { ErrorBody } from '../common/error-shape';
import { ParseIdPipe } from '../common/validation';
import type { Actor } from '../identity/actor';
import { CurrentActor } from '../identity/auth.decorators';
import { RequestDependenciesService, type DependencyLink } from './request-dependencies.service';
import { RequestWorkflowService } from './request-workflow.service';
import {
  CommentDto,
  CreatedCommentView,
  CreateRequestDto,
  DependencyDto,
  RequestEventView,
  RequestListQuery,
  RequestView,
  TransitionDto,
  UpdateRequestDto,
} from './request.dto';
import { RequestsService } from './requests.service';

class DependencyView implements DependencyLink {
  @ApiProperty({ format: 'uuid' }) requestId: string;
  @ApiProperty({ format: 'uuid' }) dependsOnId: string;
  @ApiProperty() createdAt: string;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('requests')
@ApiSignedIn()
@Controller('requests')
export class RequestsController {
  constructor(
    private readonly requests: RequestsService,
    private readonly workflow: RequestWorkflowService,
    private readonly dependencies: RequestDependenciesService,
  ) {}

  @Post()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key and body give the same answer and one request' })
  @ApiCreatedResponse({ type: RequestView, description: 'with respondBy and resolveBy computed in the provider business hours' })
  @ApiUnprocessableEntityResponse({ type: ErrorBody, description: 'no agreement covers it, or the key was used with another body' })
  create(
    @CurrentActor() actor: Actor,
    @Body() body: CreateRequestDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<RequestView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw invalid([{ field: 'Idempotency-Key', message: 'must be 1-255 printable characters' }]);
    }
    return this.requests.create(actor, body, idempotencyKey);
  }

  @Get()
  @ApiOkResponse({ type: Page<RequestView>, description: 'newest first; only requests your department is party to (ops and admin: all)' })
  list(@CurrentActor() actor: Actor, @Query() query: RequestListQuery): Promise<Page<RequestView>> {
    return this.requests.list(actor, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: RequestView })
  @ApiMissing('Request')
  get(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string): Promise<RequestView> {
    return this.requests.get(actor, id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: RequestView })
  @ApiMissing('Request')
  @ApiConflictResponse({ type: ErrorBody, description: 'stale version' })
  update(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: UpdateRequestDto): Promise<RequestView> {
    return this.requests.update(actor, id, body);
  }

  @Post(':id/transitions')
  @HttpCode(200)
  @ApiOkResponse({ type: RequestView })
  @ApiMissing('Request')
  @ApiConflictResponse({ type: ErrorBody, description: 'illegal move or stale version; nothing changed' })
  transition(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: TransitionDto): Promise<RequestView> {
    return this.workflow.transition(actor, id, body.to, body.version, body.comment);
  }

  @Post(':id/comments')
  @ApiCreatedResponse({ type: CreatedCommentView })
  @ApiMissing('Request')
  comment(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: CommentDto): Promise<CreatedCommentView> {
    return this.workflow.comment(actor, id, body.body);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: Page<RequestEventView>, description: 'the timeline, oldest first' })
  @ApiMissing('Request')
  events(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Query() query: PageQuery): Promise<Page<RequestEventView>> {
    return this.requests.events(actor, id, query.cursor, query.limit);
  }

  @Post(':id/dependencies')
  @ApiCreatedResponse({ type: DependencyView, description: '201 for a new link, 200 when it was already there' })
  @ApiMissing('Request')
  @ApiConflictResponse({ type: ErrorBody, description: 'the link would close a cycle' })
  async addDependency(
    @CurrentActor() actor: Actor,
    @Param('id', ParseIdPipe) id: string,
    @Body() body: DependencyDto,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<DependencyView> {
    const { link, created } = await this.dependencies.add(actor, id, body.dependsOnId);
    void response.status(created ? 201 : 200);
    return link;
  }

  @Delete(':id/dependencies/:dependsOnId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'unlinked' })
  @ApiMissing('Request or link')
  async removeDependency(
    @CurrentActor() actor: Actor,
    @Param('id', ParseIdPipe) id: string,
    @Param('dependsOnId', ParseIdPipe) dependsOnId: string,
  ): Promise<void> {
    await this.dependencies.remove(actor, id, dependsOnId);
  }
}
