/**
 * Imported first by the local runtime's entry modules (start.ts, local-api.ts, event-bus.ts,
 * embedded-backend.ts) and by the tests' setup: fills this process's unset rekey variables with
 * `npm start`'s values (LOCAL_ENV) before any handler module is evaluated, since a handler builds
 * its runtime, and reads its settings, when it is loaded, as in Lambda.
 */
import { useLocalEnv } from './local-settings.ts';

useLocalEnv();
