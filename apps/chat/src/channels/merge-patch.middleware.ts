import express from 'express';

/**
 * The SDK sends PATCH bodies as `application/json+merge-patch` (api.ts), which the platform's JSON parser does not
 * match (`application/*+json` needs the `+json` suffix). Parses that media type for the routes it is applied to.
 */
export const mergePatchJson = express.json({
  limit: '1mb',
  type: (req) => /^application\/(json\+merge-patch|merge-patch\+json)\b/i.test(String(req.headers['content-type'] ?? '')),
});
