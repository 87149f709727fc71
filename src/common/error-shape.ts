import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

/** One offending field of a 400. */
export class FieldProblemView {
  @ApiProperty({ example: 'priority', description: 'the field, as a path: `dependsOn[2]`, `escalations[0].notify`' }) field: string;
  @ApiProperty({ example: 'must be one of low, normal, high, urgent' }) message: string;
}

/** The one JSON shape of every error answer. */
@ApiExtraModels(FieldProblemView)
export class ErrorBody {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'priority: must be one of low, normal, high, urgent' }) message: string;
  @ApiPropertyOptional({
    description: 'one entry per offending field (400), or extra facts about a conflict (409, e.g. `currentVersion`)',
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(FieldProblemView) } },
      { type: 'object', additionalProperties: true },
    ],
    example: [{ field: 'priority', message: 'must be one of low, normal, high, urgent' }],
  })
  details?: unknown;
  @ApiPropertyOptional({ description: 'the id of this HTTP request, as in the logs' }) requestId?: string;
}
