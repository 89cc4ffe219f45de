import type { Case } from './harness';
export const tfjsTruncation = (): Case[] => [];
export const tfjsShardTruncation = (): Case[] => [];
export const tfjsBitFlips = (): Case[] => [];
export const tfjsManifest = (): Case[] => [];
export const tfjsHostileJson = (): Case[] => [];
