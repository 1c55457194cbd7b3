#!/bin/bash
#SBATCH --array=1-100%10
#SBATCH --ntasks=1
#SBATCH --mem-per-cpu=2000
#SBATCH --time=30
#SBATCH --output=logs/sweep_%A_%a.out

params=$(sed -n "${SLURM_ARRAY_TASK_ID}p" params.txt)
./simulate $params
