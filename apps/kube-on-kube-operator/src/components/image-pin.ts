import type { RenderContext } from './component.ts';

/**
 * What a pinned image adds to its component's template hash: its digest, and nothing for an image run
 * by tag. So an operator started without --image-digest keeps every template (and hash) as it was, and
 * adding or changing a digest rolls only the components whose image it names.
 */
export function imagePinOf(ctx: RenderContext, reference: string): { imageDigest?: string } {
  const digest = ctx.imageDigests?.get(reference);
  return digest ? { imageDigest: digest } : {};
}
