/** JSON shapes of the chatfn API as the registry and builder controllers render them. */

export type FailurePolicy = 'deny' | 'allow';

export interface ChatFunction {
  id: number;
  type: string;
  name: string;
  description?: string;
  enabled: boolean;
  current_version_number: number;
  timeout_ms: number;
  failure_policy: FailurePolicy;
  blocking: boolean;
  created_time: string;
  runtime: { type: 'NODEJS'; id: number; version: string };
}

export interface FunctionVersion {
  id: number;
  handler_script: string;
  version_number: number;
  created_time: string;
  rolled_back_from?: number;
}

export type InvocationStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface InvocationError {
  name: string;
  message: string;
  stack?: string;
}

export interface Invocation {
  id: number;
  invocation_id: string;
  args: Record<string, unknown>;
  created_time: string;
  finished_time: string | null;
  result: { payload?: unknown };
  status: InvocationStatus;
  version_number: number;
  trigger_type: string;
  duration_ms: number | null;
  logs: string;
  error: InvocationError | null;
  attempt: number;
  dead_lettered: boolean;
  redriven_as: string | null;
}

export interface TestRunResult {
  outcome: string;
  result: unknown;
  error: InvocationError | null;
  logs: string;
  duration_ms: number;
  timed_out: boolean;
  version_number: number | null;
  draft: boolean;
}

export interface RuntimeDependency {
  name: string;
  version: string;
  default_dependency: boolean;
}

export interface Runtime {
  id: number;
  type: 'NODEJS';
  version: string;
  revision: number;
  environment_revision: number;
  dependencies: RuntimeDependency[];
  environment_variables: Record<string, string>;
  initialization_script: { script: string };
  build?: { id: string; status: string; runtime_revision: number; error?: string };
}

export type BuildStatus = 'REQUESTED' | 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

export interface RuntimeBuild {
  id: string;
  status: BuildStatus;
  driver: string;
  reason: string;
  runtimeRevision: number;
  dependencies: { name: string; version: string }[];
  reused: boolean;
  live: boolean;
  error?: string;
  logs: string;
  createdTime: string;
  startedTime?: string;
  finishedTime?: string;
}

export interface Page<T> {
  items: T[];
  page: { size: number; total_elements: number; total_pages: number; number: number };
}
