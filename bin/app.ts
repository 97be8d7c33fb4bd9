#!/usr/bin/env node
import { createApp } from '../lib/app.ts';
import { InvalidSettingsError } from '../lib/settings.ts';

try {
  // Under `cdk synth` / `cdk deploy` the bundling lines are progress worth seeing.
  createApp({ bundlingMessages: true });
} catch (error) {
  if (!(error instanceof InvalidSettingsError)) throw error;
  console.error(error.message);
  process.exit(1);
}
