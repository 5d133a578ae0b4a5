"""Files a caller uploads to start from (`image_url` of image-to-video, image-to-image,
upscaling, background removal): checked to be the image they claim, stored like results,
owned by the key's owner."""
