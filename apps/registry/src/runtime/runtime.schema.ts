import { z } from 'zod';
import {
  envNameProblem,
  MAX_DEPENDENCIES,
  MAX_ENV_VALUE_BYTES,
  MAX_ENV_VARS,
  npmNameProblem,
  npmVersionProblem,
} from './npm-spec';

/** `PUT /v1/runtimes/nodejs/dependencies`: `ChatRuntimeDependencyProperties[]`. */
export const DependenciesSchema = z
  .array(
    z
      .object({
        name: z.string().superRefine((n, ctx) => {
          const p = npmNameProblem(n);
          if (p) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid npm package name ${JSON.stringify(n)}: ${p}` });
        }),
        version: z.string().superRefine((v, ctx) => {
          const p = npmVersionProblem(v);
          if (p) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid version ${JSON.stringify(v)}: ${p}` });
        }),
        default_dependency: z.boolean().optional(),
      })
      .passthrough(),
  )
  .max(MAX_DEPENDENCIES, `at most ${MAX_DEPENDENCIES} dependencies`);

/** `PUT /v1/runtimes/nodejs/environment-variables`: a map of name → value. */
export const EnvironmentSchema = z.record(z.string()).superRefine((env, ctx) => {
  const names = Object.keys(env);
  if (names.length > MAX_ENV_VARS) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most ${MAX_ENV_VARS} environment variables` });
    return;
  }
  for (const name of names) {
    const p = envNameProblem(name);
    if (p) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: `invalid environment variable name: ${p}` });
    else if (Buffer.byteLength(env[name], 'utf8') > MAX_ENV_VALUE_BYTES) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: `value is longer than ${MAX_ENV_VALUE_BYTES} bytes` });
    }
  }
});

/** `PUT /v1/runtimes/nodejs/initialization-script`: `ChatRuntimeScriptProperties`. */
export const ScriptSchema = z.object({ script: z.string() });
