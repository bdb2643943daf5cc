/** What call control works with: outbound's clients, since it places calls too and changes them. */
import { OutboundDependencies, outboundDependencies } from '../outbound/steps';

export type ControlDependencies = OutboundDependencies;

export const controlDependencies = outboundDependencies;
