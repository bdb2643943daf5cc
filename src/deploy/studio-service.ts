/**
 * The deployed Functions service a Studio flow points at, read back from the
 * Serverless API: the service by unique name, the environment a deploy made
 * (its domain and SID), and the SID of each function by path.
 *
 * Names follow twilio-run (@twilio-labs/serverless-api): an environment is
 * found by its domain suffix ("dev" unless told otherwise, "" for
 * production, unique name `<suffix>-environment` or `production`), and each
 * Function resource's friendly name is its path (`/outbound`).
 */

/** A problem with what is deployed: printed as one line naming the next step, exit 1. */
export class NotDeployedError extends Error {
  override name = 'NotDeployedError';
}

export interface ServiceRecord {
  sid: string;
  uniqueName: string;
}

export interface EnvironmentRecord {
  sid: string;
  uniqueName: string;
  /** null for production. */
  domainSuffix: string | null;
  domainName: string;
  /** The build its latest deployment made live; null when nothing was ever deployed. */
  buildSid: string | null;
}

export interface FunctionRecord {
  sid: string;
  friendlyName: string;
}

/** The parts of the twilio client's Serverless API used here. */
export interface ServerlessApi {
  serverless: {
    v1: {
      services: {
        (sid: string): {
          environments: { list(): Promise<EnvironmentRecord[]> };
          functions: { list(): Promise<FunctionRecord[]> };
        };
        list(): Promise<ServiceRecord[]>;
      };
    };
  };
}

export interface ServiceTarget {
  /** The service's unique name (serviceName in .twilioserviceconfig), or its ZS… SID. */
  service: string;
  /** The environment's domain suffix ('' for production), or its ZE… SID. */
  environment: string;
}

export interface DeployedService {
  serviceSid: string;
  serviceName: string;
  environmentSid: string;
  /** The domain suffix; '' for production. */
  environmentSuffix: string;
  /** The domain suffix, or "production". */
  environmentLabel: string;
  /** `<service>-1234-dev.twil.io` */
  domainName: string;
  /** Function path → ZH… SID. */
  functions: ReadonlyMap<string, string>;
}

const isSid = (prefix: string, value: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value);

/** How `npm run deploy` reaches the given environment. */
export function deployCommand(environment: string): string {
  if (environment === '') return 'npm run deploy -- --production';
  if (environment === 'dev' || isSid('ZE', environment)) return 'npm run deploy';
  return `npm run deploy -- --environment ${environment}`;
}

/** The environment twilio-run would deploy to: by SID, or by domain suffix preferring its own unique name. */
function pickEnvironment(environments: EnvironmentRecord[], wanted: string): EnvironmentRecord | undefined {
  if (isSid('ZE', wanted)) return environments.find((e) => e.sid === wanted);
  const matching = environments.filter((e) => (e.domainSuffix ?? '') === wanted);
  const ownName = wanted === '' ? 'production' : `${wanted}-environment`;
  return matching.find((e) => e.uniqueName === ownName) ?? matching[0];
}

export async function findDeployedService(api: ServerlessApi, target: ServiceTarget): Promise<DeployedService> {
  const services = await api.serverless.v1.services.list();
  const service = services.find((s) => (isSid('ZS', target.service) ? s.sid === target.service : s.uniqueName === target.service));
  if (!service) {
    throw new NotDeployedError(
      `no Functions service "${target.service}" on this account: deploy it first with ${deployCommand(target.environment)}` +
        ' (or pass --service NAME if it has another name)',
    );
  }
  const resources = api.serverless.v1.services(service.sid);
  const environments = await resources.environments.list();
  const environment = pickEnvironment(environments, target.environment);
  const label = target.environment === '' ? 'production' : target.environment;
  if (!environment) {
    const known = environments.map((e) => (e.domainSuffix ? e.domainSuffix : 'production')).join(', ') || 'none';
    throw new NotDeployedError(
      `service ${service.uniqueName} has no "${label}" environment (it has: ${known}): deploy to it first with ` +
        `${deployCommand(target.environment)}, or pass --environment SUFFIX (--production for none)`,
    );
  }
  const environmentLabel = environment.domainSuffix ? environment.domainSuffix : 'production';
  if (!environment.buildSid) {
    throw new NotDeployedError(
      `the ${environmentLabel} environment of ${service.uniqueName} has nothing deployed yet: run ${deployCommand(target.environment)} first`,
    );
  }
  const functions = new Map((await resources.functions.list()).map((f) => [f.friendlyName, f.sid] as const));
  return {
    serviceSid: service.sid,
    serviceName: service.uniqueName,
    environmentSid: environment.sid,
    environmentSuffix: environment.domainSuffix ?? '',
    environmentLabel,
    domainName: environment.domainName,
    functions,
  };
}
