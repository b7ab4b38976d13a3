/**
 * Member images (`/api/storage/files/{file_id}/thumbnail|preview|original`) need the bearer
 * header, so an `<img src>` cannot load them: they are fetched as blobs through the generated
 * client (which adds the header and refreshes the sign-in) into object URLs, revoked when the
 * tile leaves the screen. Only mounted tiles load, and the grid mounts only visible ones.
 */
import { useMemberImage } from './portalHooks'

export function MemberImage({ url, alt, width, height }: { url: string | null | undefined; alt: string; width?: number | null; height?: number | null }) {
  const image = useMemberImage(url)
  if (image.status === 'loaded') {
    return <img src={image.src} alt={alt} width={width ?? undefined} height={height ?? undefined} className="pf-tile__img" draggable={false} />
  }
  return (
    <span className={`pf-tile__placeholder pf-tile__placeholder--${image.status}`} role="img" aria-label={`${alt}: ${image.status === 'failed' ? 'image failed to load' : image.status === 'none' ? 'not rendered yet' : 'loading'}`}>
      {image.status === 'failed' ? 'Image failed' : image.status === 'none' ? 'Rendering…' : ''}
    </span>
  )
}
