/**
 * A route's settings laid over the environment's: whatever a route leaves
 * out comes from the default route (the environment variables).
 */
import type { FallbackSettings, InboundSettings } from './settings';
import type { OutboundSettings } from '../outbound/settings';
import { COUNTRY_CODE } from '../phone/address';
import type { DestinationPolicy } from '../phone/destination';
import type { Route } from './route';

export interface RoutedInbound extends InboundSettings {
  route: string;
  /** Operator-defined participant attributes from the route. */
  attributes: Record<string, string>;
}

export function inboundForRoute(base: InboundSettings, route: Route): RoutedInbound {
  return {
    ...base,
    route: route.name,
    roomPrefix: route.roomPrefix ?? base.roomPrefix,
    agentNames: route.agentNames ?? base.agentNames,
    agentMetadata: route.agentMetadata ?? base.agentMetadata,
    identityPolicy: route.participantIdentity ?? base.identityPolicy,
    namePolicy: route.participantName ?? base.namePolicy,
    greeting: { ...base.greeting, ...route.greeting },
    connectActionUrl: route.connectActionUrl ?? base.connectActionUrl,
    attributes: route.attributes ?? {},
  };
}

export function fallbackForRoute<T extends FallbackSettings & { voice: string; language: string }>(base: T, route: Route): T {
  return {
    ...base,
    message: route.fallback?.message ?? base.message,
    number: route.fallback?.number ?? base.number,
    voice: route.greeting?.voice ?? base.voice,
    language: route.greeting?.language ?? base.language,
  };
}

export interface RoutedOutbound extends OutboundSettings {
  route: string;
  attributes: Record<string, string>;
  /** Dispatch metadata when the request gives none; empty means "describe the call". */
  agentMetadata: string;
}

export function outboundForRoute(base: OutboundSettings, route: Route): RoutedOutbound {
  return {
    ...base,
    route: route.name,
    roomPrefix: route.roomPrefix ?? base.roomPrefix,
    agentNames: route.agentNames ?? base.agentNames,
    agentMetadata: route.agentMetadata ?? '',
    greeting: { ...base.greeting, ...route.greeting },
    connectActionUrl: route.connectActionUrl ?? base.connectActionUrl,
    attributes: route.attributes ?? {},
    destinations: destinationsForRoute(base.destinations, route),
  };
}

/** Where a route's calls may go: its own allowed destinations, when it has them, with the environment's blocks and types. */
export function destinationsForRoute(base: DestinationPolicy, route: Route | undefined): DestinationPolicy {
  const allowed = route?.outbound?.allowedDestinations;
  if (!allowed) return base;
  return {
    ...base,
    countries: new Set(allowed.filter((d) => COUNTRY_CODE.test(d))),
    prefixes: allowed.filter((d) => !COUNTRY_CODE.test(d)),
  };
}
