// The rosbridge v2 operations the server understands, as zod schemas: every
// incoming message is validated here before anything acts on it.
import { z } from 'zod';

const id = z.string().max(256).optional();
const name = z.string().min(1).max(256);

export const Advertise = z.object({ op: z.literal('advertise'), id, topic: name, type: z.string().max(256) });
export const Unadvertise = z.object({ op: z.literal('unadvertise'), id, topic: name });
export const Publish = z.object({ op: z.literal('publish'), id, topic: name, msg: z.unknown() });
export const Subscribe = z.object({
  op: z.literal('subscribe'),
  id,
  topic: name,
  type: z.string().max(256).optional(),
  throttle_rate: z.number().int().min(0).max(3_600_000).optional(),
  queue_length: z.number().int().min(0).max(1000).optional(),
  fragment_size: z.number().int().min(1).optional(),
  compression: z.string().max(32).optional(),
});
export const Unsubscribe = z.object({ op: z.literal('unsubscribe'), id, topic: name });
export const CallService = z.object({
  op: z.literal('call_service'),
  id,
  service: name,
  args: z.unknown().optional(),
  timeout: z.number().optional(),
});
export const ServiceResponse = z.object({ op: z.literal('service_response'), id, service: name, values: z.unknown().optional(), result: z.boolean() });
export const AdvertiseService = z.object({ op: z.literal('advertise_service'), service: name, type: z.string().max(256) });
export const UnadvertiseService = z.object({ op: z.literal('unadvertise_service'), service: name });
export const Fragment = z.object({
  op: z.literal('fragment'),
  id: z.string().min(1).max(256),
  data: z.string(),
  num: z.number().int().min(0),
  total: z.number().int().min(1).max(100_000),
});

export const Op = z.discriminatedUnion('op', [
  Advertise,
  Unadvertise,
  Publish,
  Subscribe,
  Unsubscribe,
  CallService,
  ServiceResponse,
  AdvertiseService,
  UnadvertiseService,
  Fragment,
]);
export type Op = z.infer<typeof Op>;
