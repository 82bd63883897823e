/**
 * The standard grpc.health.v1.Health service (grpc-health-check): SERVING while accepting jobs,
 * NOT_SERVING from the moment a shutdown starts, so load balancers and launchers stop sending work.
 */
import type { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/** '' is the whole server; clients may also ask about the segmentation service by name. */
export const HEALTH_SERVICES = ['', 'h2gnet.v1.Segmentation'] as const;

export class Health {
  private readonly impl = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING'])));

  addTo(server: Server): void {
    this.impl.addToServer(server);
  }

  setServing(serving: boolean): void {
    for (const s of HEALTH_SERVICES) this.impl.setStatus(s, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
