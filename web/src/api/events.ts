/**
 * The event types the live streams carry, by the names the platform gives them (the SSE
 * `event:` field; the AsyncAPI document at /api/asyncapi.json describes each). One list, so the
 * gallery and the portal listen for the same album events.
 */

/** What a share link's stream carries: an album's client-safe events (queries/client_safe.py). */
export const CLIENT_ALBUM_EVENTS = [
  'AlbumCreated',
  'AlbumPhotosAdded',
  'AlbumPhotosRemoved',
  'AlbumSyncFinished',
  'AlbumShared',
  'AlbumShareRevoked',
  'AlbumPhotoSelected',
  'AlbumPhotoDeselected',
  'AlbumPhotoRated',
  'AlbumCommentAdded',
  'AlbumSelectionSubmitted',
  'AlbumEditingStarted',
  'AlbumProcStatusSet',
  'AlbumDelivered',
  'AlbumChangesRequested',
  'AlbumApproved',
  'AlbumArchived',
  'AlbumReopened',
] as const

/** Album events only members see, besides the client-safe ones. */
export const MEMBER_ALBUM_EVENTS = ['AlbumSyncRequested', 'AlbumTagged', 'AlbumUntagged'] as const
