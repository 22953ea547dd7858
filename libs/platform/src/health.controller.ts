import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { MessageBus } from '@chatfn/messaging';

/** Liveness: the process answers. Readiness: the database and the bus are reachable. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: DataSource,
    private readonly bus: MessageBus,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'up' };
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const [database, bus] = await Promise.all([
      this.db
        .query('SELECT 1')
        .then(() => true)
        .catch(() => false),
      this.bus.ready().catch(() => false),
    ]);
    const ok = database && bus;
    res.status(ok ? 200 : 503).json({ status: ok ? 'up' : 'down', checks: { database, bus } });
  }
}
