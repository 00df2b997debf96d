// GET /deliveries: the delivery console, beside /dashboard. One static page that reads /v1/deliveries
// (scope deliveries:admin): pending messages and dead letters by source system, with why each failed
// (the service's answer and the FHIR server's OperationOutcome, its expressions), a replay button and a
// discard button (both audited as every write). With authentication on, the page asks for an API key or
// a token on 401/403 and keeps it in sessionStorage only, as the dashboard does.
import { staticPage } from './static-page.ts';

export const consoleRoutes = staticPage('/deliveries', new URL('./console/index.html', import.meta.url));
