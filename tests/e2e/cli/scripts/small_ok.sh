#!/bin/sh
#SBATCH --ntasks=2
#SBATCH --mem=500M
#SBATCH --time=00:10:00
#SBATCH --job-name=quick-check
echo "running on $SLURM_JOB_NODELIST"
