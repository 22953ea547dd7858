import { OpenApiRegistry } from '../../chat/src/openapi';

const op = (operationId: string, summary: string, tag: string, extra: Record<string, unknown> = {}) => ({
  operationId,
  summary,
  tags: [tag],
  ...extra,
});
const ext = { 'x-chatfn-extension': true };

/** The registry's routes: the SDK's RuntimeApi, FunctionsApi and FunctionVersionsApi, and chatfn's extensions. */
OpenApiRegistry.add({
  '/v1/runtimes/nodejs': { get: op('retrieveNodejsRuntime', "Retrieve the application's NodeJS chat runtime", 'runtime') },
  '/v1/runtimes/nodejs/dependencies': {
    put: op('updateNodejsRuntimeDependencies', 'Replace the NPM dependencies (the chatkitty default dependency always stays)', 'runtime'),
  },
  '/v1/runtimes/nodejs/environment-variables': {
    put: op('updateNodejsRuntimeEnvironmentVariables', 'Replace the environment variables (encrypted at rest)', 'runtime'),
  },
  '/v1/runtimes/nodejs/initialization-script': {
    put: op('updateNodejsRuntimeInitializationScript', 'Replace the initialization script', 'runtime'),
  },
  '/v1/runtimes/nodejs/functions': {
    get: op('listNodejsRuntimeFunctions', 'List the functions: one per trigger type', 'runtime'),
    post: op('createNodejsRuntimeFunction', "Name, describe and enable a trigger type's function", 'runtime'),
  },
  '/v1/functions/{id}': { get: op('retrieveFunction', 'Retrieve a chat function', 'functions') },
  '/v1/functions/{id}/versions': {
    get: op('listFunctionVersions', 'List versions, newest first', 'functions'),
    post: op('createFunctionVersion', 'Create and deploy a version (TypeScript or JavaScript; 400 with line/column on a syntax error)', 'functions'),
  },
  '/v1/functions/{id}/current-version': { get: op('retrieveFunctionCurrentVersion', 'Retrieve the deployed version', 'functions') },
  '/v1/functions/{id}/invocations': {
    get: op('listFunctionInvocations', 'List invocations, newest first (filters: status, version_number)', 'functions'),
  },
  '/v1/functions/{id}/invocations/{invocationId}/redrive': {
    post: op('redriveFunctionInvocation', 'Re-run a dead-lettered invocation', 'functions', ext),
  },
  '/v1/functions/{id}/enable': { post: op('enableFunction', 'Enable a function', 'functions', ext) },
  '/v1/functions/{id}/disable': { post: op('disableFunction', 'Disable a function', 'functions', ext) },
  '/v1/functions/{id}/rollback': {
    post: op('rollbackFunction', 'Deploy a new version with the script of {version_number}', 'functions', ext),
  },
  '/v1/functions/{id}/settings': {
    patch: op('updateFunctionSettings', 'Change timeout_ms and failure_policy (deny | allow)', 'functions', ext),
  },
  '/v1/functions/{id}/test': {
    post: op('testFunction', 'Run a draft script (or the current version) with {event} on an executor; nothing is saved', 'functions', ext),
  },
  '/v1/function-versions/{id}': { get: op('retrieveFunctionVersion', 'Retrieve a chat function version', 'function-versions') },
});
