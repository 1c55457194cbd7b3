#!/bin/bash
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=40
#SBATCH --mem-per-cpu=4G
#SBATCH --time=1-12
#SBATCH --constraint="skylake|cascadelake"
export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK
./openmp_solver
