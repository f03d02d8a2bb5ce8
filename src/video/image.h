/* image.h - still images as a source (private to the video layer): a JPEG/PNG file or a folder of
 * them, read into host RGB24 frames of the source's bounded frame set. */
#ifndef VIDGRAPH_VIDEO_IMAGE_H
#define VIDGRAPH_VIDEO_IMAGE_H

#include "video_internal.h"

typedef struct vgv_images vgv_images;

/* True for a folder or a .jpg/.jpeg/.png path (not URLs, not printf patterns). */
bool vgv_is_image_source(const char *url);
/* Lists the images (a folder's sorted by name) and reads the first one to check it; fills the
 * description part of info. */
vg_status vgv_images_open(const char *url, vg_source_info *info, vgv_images **out);
int vgv_images_count(const vgv_images *im);
const char *vgv_images_path(const vgv_images *im, int idx);
/* Reads image idx into a frame of fs (waits for a free frame). */
vg_status vgv_images_load(const vgv_images *im, int idx, vgv_frameset *fs, vg_frame *out);
void vgv_images_close(vgv_images *im);

#endif
