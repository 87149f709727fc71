import { Module } from '@nestjs/common';
import { ChainQueries, ChainsController } from './chains.controller';

/** Reading chains over HTTP; the chain arithmetic itself runs in ChainService (escalation module). */
@Module({ controllers: [ChainsController], providers: [ChainQueries] })
export class ChainsModule {}
