import { Module } from '@nestjs/common';
import { RequestDependenciesService } from './request-dependencies.service';
import { RequestPresenter } from './request-presenter';
import { RequestWorkflowService } from './request-workflow.service';
import { RequestsController } from './requests.controller';
import { RequestsService } from './requests.service';

@Module({
  controllers: [RequestsController],
  providers: [RequestsService, RequestWorkflowService, RequestDependenciesService, RequestPresenter],
})
export class RequestsModule {}
