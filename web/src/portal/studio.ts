/** The current studio (organisation) of the portal, chosen with the switcher and remembered. */
import { createContext, useContext } from 'react'
import type { Schemas } from '../api/client'

export type Membership = Schemas['Membership']

export interface StudioState {
  /** The studio shown, or null when the user has none yet. */
  studio: Membership | null
  studios: Membership[]
  choose: (orgId: string) => void
}

export const StudioContext = createContext<StudioState>({ studio: null, studios: [], choose: () => {} })

export function useStudio(): StudioState {
  return useContext(StudioContext)
}

const STORAGE_KEY = 'photoflow.studio'

export function rememberedStudio(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

export function rememberStudio(orgId: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, orgId)
  } catch {
    // private mode: the choice lasts this page only
  }
}

/** Roles that may change things (everything but viewer and auditor). */
export function canWrite(role: string | undefined): boolean {
  return role === 'owner' || role === 'admin' || role === 'photographer'
}

export function canAdmin(role: string | undefined): boolean {
  return role === 'owner' || role === 'admin'
}
