/**
 * Tiny greyscale images for the dataset fixtures: a few pixels, a distinct grey level per
 * file, encoded by sharp as the real datasets store them (JPEG for MIMIC-CXR-JPG and
 * CheXpert, PNG for the Kaggle IU collection).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';

export async function writeTinyImage(path: string, grey: number, format: 'jpeg' | 'png', size = 8): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const pixels = Buffer.alloc(size * size, grey & 0xff);
  const image = sharp(pixels, { raw: { width: size, height: size, channels: 1 } });
  await (format === 'jpeg' ? image.jpeg({ quality: 90 }) : image.png()).toFile(path);
}
