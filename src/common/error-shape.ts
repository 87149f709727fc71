import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one JSON shape of every error answer. */
export class ErrorBody {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'priority: must be one of low, normal, high, urgent' }) message: string;
  @ApiPropertyOptional({
    description: 'one entry per offending field, or extra facts about a conflict',
    example: [{ field: 'priority', message: 'must be one of low, normal, high, urgent' }],
  })
  details?: unknown;
  @ApiPropertyOptional({ description: 'the id of this HTTP request, as in the logs' }) requestId?: string;
}
