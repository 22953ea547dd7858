import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Injectable, Logger, MiddlewareConsumer, Module, NestMiddleware, NestModule, RequestMethod } from '@nestjs/common';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { isApiPath, isSpaRoute } from './spa-path';

/** Where `vite build` puts the web app: `dist/dashboard` (from `dist/apps/dashboard/src` or from the sources). */
export function dashboardDir(): string | undefined {
  const candidates = [resolve(__dirname, '../../../dashboard'), resolve(__dirname, '../../../dist/dashboard'), resolve('dist/dashboard')];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/** Static files of the dashboard with an SPA fallback; API paths always pass through untouched. */
@Injectable()
export class DashboardMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Dashboard');
  private readonly dir = dashboardDir();
  private readonly files = this.dir
    ? express.static(this.dir, { index: false, maxAge: 0, setHeaders: (res, path) => cacheHeaders(res, path) })
    : undefined;

  constructor() {
    if (!this.dir) this.logger.log('dist/dashboard not found: run `npm run build:dashboard` to serve the dashboard');
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const path = req.path;
    if (!this.dir || !this.files || isApiPath(path)) return next();
    if (isSpaRoute(req.method, path, req.headers.accept)) {
      res.setHeader('cache-control', 'no-cache');
      return res.sendFile(join(this.dir, 'index.html'));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    this.files(req, res, next);
  }
}

function cacheHeaders(res: Response, path: string): void {
  // Vite's hashed asset names never change content: cache them for a year.
  if (/[\\/]assets[\\/]/.test(path)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  else res.setHeader('cache-control', 'no-cache');
}

/** The web dashboard at `/` on the API's port (issue 7). */
@Module({ providers: [DashboardMiddleware] })
export class DashboardModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DashboardMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
