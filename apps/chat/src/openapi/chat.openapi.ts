import { OpenApiRegistry } from './openapi.registry';

const op = (operationId: string, summary: string, tag: string) => ({ operationId, summary, tags: [tag] });

/** Summaries of the chat core's routes (operation ids are the SDK's method names). */
OpenApiRegistry.add({
  '/oauth/token': { post: op('token', 'Issue an access token (client credentials grant, HTTP Basic)', 'auth') },
  '/admin/applications': {
    post: op('createApplication', 'Create an application; returns its credentials once (admin token)', 'admin'),
    get: op('listApplications', 'List applications (admin token)', 'admin'),
  },
  '/v1/application': { get: op('retrieveApplication', 'Retrieve the authenticated application', 'application') },
  '/v1/application/settings': {
    get: op('retrieveApplicationSettings', 'Retrieve application settings', 'application'),
    put: op('updateApplicationSettings', 'Update application settings', 'application'),
  },
  '/v1/application/message-read-receipt-summaries': {
    get: op('retrieveApplicationMessageReadReceiptSummaries', 'Unread message counts per channel member', 'application'),
  },
  '/v1/users': {
    get: op('listUsers', 'List users (filters: name, properties)', 'users'),
    post: op('createUser', 'Create a user', 'users'),
    head: op('checkUserExists', 'Check a user exists by name', 'users'),
  },
  '/v1/users/{id}': {
    get: op('retrieveUser', 'Retrieve a user', 'users'),
    patch: op('updateUser', 'Update a user (JSON merge patch)', 'users'),
    delete: op('deleteUser', 'Delete a user', 'users'),
  },
  '/v1/users/{id}/display-picture': {
    post: op('updateUserDisplayPicture', 'Set a display picture (external URL JSON or multipart upload)', 'users'),
  },
  '/v1/users/{id}/secrets/{name}': {
    get: op('retrieveUserSecret', 'Retrieve a user secret', 'users'),
    put: op('setUserSecret', 'Set a user secret', 'users'),
    delete: op('removeUserSecret', 'Remove a user secret', 'users'),
  },
  '/v1/user-sessions': { get: op('listUserSessions', 'List user sessions (state filter)', 'user-sessions') },
  '/v1/chat-sessions': { get: op('listChatSessions', 'List chat sessions (state filter)', 'chat-sessions') },
  '/v1/imports/users': { post: op('importUsers', 'Import users from a JSON array file (background job)', 'imports') },
  '/v1/imports/channels': { post: op('importChannels', 'Import channels from a JSON array file (background job)', 'imports') },
  '/v1/imports/channels/{id}/members': { post: op('importChannelMembers', 'Import channel members from a JSON array file (background job)', 'imports') },
  '/v1/imports/messages': { post: op('importMessages', 'Import messages from a JSON array file (background job)', 'imports') },
  '/v1/jobs': { get: op('listJobs', 'List jobs', 'jobs') },
  '/v1/jobs/{id}': { get: op('retrieveJob', 'Retrieve a job', 'jobs') },
  '/v1/analytics/messages': { post: op('exportMessageAnalytics', 'Export message analytics (501)', 'analytics') },
  '/v1/analytics/users': { post: op('exportUserAnalytics', 'Export user analytics (501)', 'analytics') },
  '/v1/openapi.json': { get: op('openapi', 'This document', 'meta') },
});
