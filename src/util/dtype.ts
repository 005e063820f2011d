export type Dtype = 'fp32' | 'bf16' | 'fp16';

export const BYTES_PER_ELEMENT: Record<Dtype, number> = { fp32: 4, bf16: 2, fp16: 2 };

export const bytesOf = (dtype: Dtype): number => BYTES_PER_ELEMENT[dtype];
